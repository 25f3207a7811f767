"""`python -m aigw.gateway` (see aigw.gateway.server)."""

from aigw.gateway.server import main

if __name__ == "__main__":
    main()
