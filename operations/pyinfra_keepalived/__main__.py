"""`python3 -m pyinfra_keepalived render|adopt ...`: deploys.offline's command line."""

import sys

from .deploys.offline import main

sys.exit(main())
