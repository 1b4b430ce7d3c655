"""The live dashboard (`GET /__mock/ui`): a page of plain HTML, CSS and JavaScript shipped as
package data in `static/`, a client of the documented control plane only (docs/dashboard.md).

App layer: serves files; it must not reach the engine, the store or a provider.
"""
