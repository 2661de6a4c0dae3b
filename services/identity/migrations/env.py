import services.identity.notification_models  # noqa: F401 - registers its tables on Base.metadata
from services.common.migrations import run_env
from services.identity import org_models  # noqa: F401 - registers its tables on Base.metadata
from services.identity.models import Base

run_env(Base.metadata)
