from surveykit.cli import run

run()
