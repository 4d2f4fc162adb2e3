"""`python -m ui.screenshots [FOLDER]`: the main views."""

import sys

from .views import main

sys.exit(main())
