# The community thread world, for the threads case of test_row_parity.py.
from tests.community.conftest import community_on, thread  # noqa: F401
