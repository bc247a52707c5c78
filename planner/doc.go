// Package planner turns a checked recipe into a plan: a graph whose nodes
// are the steps that will run, with every argument resolved (defaults filled
// in), what each step reads and writes in the pipeline state, and what it
// will cost; and whose edges are the dataflow between them.
//
// # How a recipe becomes a graph
//
// Build walks the checked steps in source order while simulating the
// pipeline state as a table from resource to the node that last wrote it.
// A resource is one of: the current model ("model"), a named snapshot
// ("snapshot:teacher"; "snapshot:original" is written by the model
// binding), a dataset ("data:mnist"), a metric ("metric:accuracy") or an
// output file ("file:out/m.onnx"). For every resource a step reads, an edge
// runs from the node that wrote it; then the step's writes update the table.
//
// Blocks shape the walk:
//
//   - `repeat N { body }` is unrolled: a repeat node holds N round nodes,
//     each holding a copy of the body, and round k+1 reads what round k
//     wrote. Unrolling keeps every edge and cost exact; it is bounded by
//     Options.MaxNodes.
//   - `for x in [a, b] { body }` forks: a for node holds one branch node
//     per value; each branch starts from a copy of the state before the
//     loop, binds x to its value, and keeps its writes to itself. The
//     statements after the loop continue from the state before the fork,
//     so branches are independent arms whose metrics are reported side by
//     side. This is why a plan is a graph and not a list.
//
// What a verb reads and writes is derived from its signature and a few
// conventions shared by the standard library (see effects.go); a caller
// that knows better refines it through Options.Effects. Costs that need
// the model (FLOPs, memory, output size) are filled from Options.Model and
// Options.Data when given, and left unknown otherwise.
//
// Three views print a plan: Text (a numbered tree), DOT (Graphviz) and
// JSON (stable lower_snake_case fields).
package planner
