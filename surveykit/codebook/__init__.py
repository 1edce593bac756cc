"""Questionnaire definitions: load and check codebooks, write data-entry templates."""

from surveykit.codebook.loader import load_codebook, parse_codebook
from surveykit.codebook.model import Codebook, Construct, Item, Option, Scale, Section

__all__ = ["load_codebook", "parse_codebook", "Codebook", "Construct", "Item", "Option", "Scale", "Section"]
