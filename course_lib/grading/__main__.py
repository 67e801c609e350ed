"""``python -m course_lib.grading``: see :mod:`course_lib.grading.driver`."""

import sys

from .driver import main

sys.exit(main())
