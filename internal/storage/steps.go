package storage

import (
	"errors"
	"sync"
)

// steps runs the steps of one job, each as soon as the steps it needs have
// succeeded, so that independent ones (a VNet and a storage account) run at
// once. A step whose prerequisite failed or was skipped is skipped, never
// started: which az calls run after a failure depends on the failure alone,
// not on timing. wait returns only when every started step has ended, so a
// failure is reported with everything its siblings made.
//
// sequential runs each step at once in the order added (which must then put
// a step after the steps it needs): a dry run prints its plan in a fixed
// order.
type steps struct {
	sequential bool
	wg         sync.WaitGroup
	all        []*step
}

// step is one added step; ok is read once done is closed.
type step struct {
	done chan struct{}
	ok   bool
	err  error
}

// add starts fn once every step in needs has succeeded.
func (s *steps) add(fn func() error, needs ...*step) *step {
	st := &step{done: make(chan struct{})}
	s.all = append(s.all, st)
	run := func() {
		defer close(st.done)
		for _, n := range needs {
			<-n.done
			if !n.ok {
				return // skipped: n failed or was skipped itself
			}
		}
		st.err = fn()
		st.ok = st.err == nil
	}
	if s.sequential {
		run()
		return st
	}
	s.wg.Go(run)
	return st
}

// wait waits for every step and returns their errors in the order the steps
// were added (nil when none failed).
func (s *steps) wait() error {
	s.wg.Wait()
	var errs []error
	for _, st := range s.all {
		if st.err != nil {
			errs = append(errs, st.err)
		}
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
