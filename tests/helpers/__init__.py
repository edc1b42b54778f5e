"""What several test modules share: the golden vectors, protocol drivers, value
strategies, expected outcomes of reply vectors, and an in-memory cluster for
the cluster client. Test modules import from here, never from each other."""
