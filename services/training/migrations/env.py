import services.training.core_models  # noqa: F401 - registers the training core's tables on Base.metadata
from services.common.migrations import run_env
from services.training.models import Base

run_env(Base.metadata)
