from services.assessment.servicer import build
from services.common.runner import run_service

if __name__ == "__main__":
    run_service("assessment", build)
