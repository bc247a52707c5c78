// Package run executes plans: the pipeline State passed through steps
// (current model, named snapshots, bound dataset, metrics), the verb
// implementations registered by name (Register), the Local executor that
// runs a planner.Plan node by node — each from the state its input node
// left, independent branches up to Jobs at once — with the step Store that
// keeps every finished node under its chained key (a rerun takes the
// unchanged nodes from it), and what a run leaves behind: report.json
// (docs/contracts.md), rewritten atomically after every node by a ReportWriter
// observer, and manifest.json. docs/run.md describes keys, the store and
// --manifest.
//
// A run starts with Preflight: every step whose verb, variant or word has
// no engine in this build (verbs without a registered Verb, such as prune
// and adcorda, and variants a Verb's Unsupported rejects, such as quantize
// log2 and evaluate robustness) and every export path outside the output
// directory is reported, located, before anything runs.
// A failing step is reported against its recipe line (StepError); a
// non-finite loss stops training (ErrNonFinite) and the last good
// checkpoint stays on disk; a cancelled context stops within the current
// step (ErrInterrupted).
//
// Paths a recipe reads (model files, dataset folders) are relative to the
// recipe's folder; export paths are relative to the output directory and
// may not leave it.
package run
