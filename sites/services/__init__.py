"""Every write to sites and rollouts: one service function per intention."""
