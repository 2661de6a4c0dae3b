from services.common.migrations import run_env
from services.assessment.models import Base

run_env(Base.metadata)
