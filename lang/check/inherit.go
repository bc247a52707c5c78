package check

// Where an inherited argument comes from (Step.Inherited).
const (
	FromDataLine = "data line"
	FromBinding  = "bound dataset"
)

// inheritData records the arguments later steps inherit from the dataset:
// the data step's own (nil for a binding without one), then the
// binding's, which win as they do when the run opens the data. The data
// step takes the binding's values too, so it shows what it opens.
func (s *State) inheritData(step *Step, bound map[string]Value) {
	s.DataArgs, s.DataFrom = map[string]Value{}, map[string]string{}
	if step != nil {
		for name := range step.Explicit {
			s.DataArgs[name], s.DataFrom[name] = step.Args[name], FromDataLine
		}
	}
	for name, v := range bound {
		s.DataArgs[name], s.DataFrom[name] = v, FromBinding
		if step != nil {
			step.Args[name] = v
			step.inherit(name, FromBinding)
		}
	}
}

// inherit notes where an argument's value comes from.
func (s *Step) inherit(name, from string) {
	if s.Inherited == nil {
		s.Inherited = map[string]string{}
	}
	s.Inherited[name] = from
}
