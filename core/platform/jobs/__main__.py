"""``python -m core.platform.jobs run JOB_ID``: run one job in this process."""

import sys

from core.platform.jobs.runner import main

raise SystemExit(main(sys.argv[1:]))
