from services.common.runner import run_service
from services.sharing.servicer import build

if __name__ == "__main__":
    run_service("sharing", build)
