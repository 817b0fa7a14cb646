"""The paper-scale replication in short GPU windows: its slices (``config/paper_scale``), the
pack a window brings back (everything the report reads except checkpoints and features) and
the report and verdict table re-rendered from packs on any CPU."""
