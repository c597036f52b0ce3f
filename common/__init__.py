"""Framework-free code shared by both apps: the contract, the settings and the merge lock."""
