"""An example method from outside segrepro (see the README's "Submit a method")."""
