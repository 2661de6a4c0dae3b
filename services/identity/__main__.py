from services.common.runner import run_service
from services.identity.servicer import build

if __name__ == "__main__":
    run_service("identity", build)
