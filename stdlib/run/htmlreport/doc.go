// Package htmlreport renders report.html, the page a run leaves beside
// report.json: one self-contained file (inline SVG and CSS, no script, no
// font or image fetched) that a browser opens offline.
//
// The page is built from the report alone (run.Report and the series its
// steps carry, see docs/report-json.md), plus the recipe text for the
// highlighted header and, when known, the plan graph. Sections, each with
// a fixed id: header (recipe, device, seed, wall time, status, final
// metrics), plan (the plan as a graph with each node's status and time),
// training (loss, accuracy and learning rate per epoch and every few
// steps for train, finetune, distill and QAT), tradeoff (accuracy against
// size and latency, one point per model state, the Pareto front and the
// expect gates), layers (bit width, sparsity, weight range and clipping
// threshold per layer), robustness (grouped bars per arm, accuracy
// against severity and eps) and steps (every step with its metrics and
// located error). Plots are drawn with gonum.org/v1/plot as SVG.
//
// Compare renders one page for several runs of a recipe: metrics side by
// side with their mean and spread, and training curves overlaid.
package htmlreport
