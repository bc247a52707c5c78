package main

import "flag"

// update rewrites the expected output inside the txtar scripts.
var update = flag.Bool("update", false, "rewrite the golden files and scripts")
