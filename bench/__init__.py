"""hookline's own benchmark: the W1 load generator, its callback receiver and the runner."""
