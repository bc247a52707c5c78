package ops

import "fmt"

// ResizeParam replaces a parameter's value by one of another shape (a
// structured rewrite that removes channels), keeping its name, its place
// in Params order and whether it trains; keep is the new value's mask
// (nil: none). Every node that names the parameter must be rewritten to
// match by the caller.
func (m *Model) ResizeParam(name string, value *Tensor, keep []bool) error {
	p := m.byName[name]
	if p == nil {
		return fmt.Errorf("ops: model %s has no parameter %q", m.Name, name)
	}
	value.leaf = true
	p.Value, p.mask = value, nil
	if err := p.SetMask(keep); err != nil {
		return err
	}
	m.invalidate()
	return nil
}
