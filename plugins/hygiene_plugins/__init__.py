"""The built-in sources and reporters of hygiene, registered through the ``hygiene`` entry-point group."""
