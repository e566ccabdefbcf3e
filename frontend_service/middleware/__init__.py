"""Request middleware, each module with an `init(app)`."""
