"""Everything that touches the outside: replay files, Kafka, the warehouse, simulators."""
