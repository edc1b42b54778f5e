"""The behaviour suite: what a client sees from "an Arakoon server" through real
sockets, with both client flavours.

By default the server is txarakoon's in-memory cluster (in a subprocess, and in
process on loopback for the tests that need its controls); with
``TXARAKOON_TEST_NODES="CLUSTER_ID@name=host:port,..."`` it is a real Arakoon
cluster, and the tests that need controls only the in-memory cluster has are
skipped. Passing against both is what "behaves like Arakoon" means.
"""
