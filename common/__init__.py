"""Small helpers every app may import: the domain error family. Not a Django app."""
