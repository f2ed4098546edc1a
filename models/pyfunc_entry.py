"""MLflow models-from-code entry point: the pyfunc that a logged Digitify model loads."""

from mlflow.models import set_model

from models.registry import DigitifyPyfunc

set_model(DigitifyPyfunc())
