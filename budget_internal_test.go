package websocket

import (
	"testing"
	"time"
)

func TestReceiveBudgetTakeGive(t *testing.T) {
	b := &receiveBudget{limit: 100}
	if !b.tryTake(60) || b.tryTake(41) || !b.tryTake(40) {
		t.Fatal("tryTake does not follow the limit")
	}
	if got := b.inUse(); got != 100 {
		t.Fatalf("in use %d, want 100", got)
	}

	// A waiter wakes when enough is given back, not before.
	done := make(chan struct{})
	got := make(chan error, 1)
	go func() { got <- b.take(50, done, 0) }()
	b.give(40) // 60 in use: 50 more does not fit
	select {
	case err := <-got:
		t.Fatalf("take returned %v with only 40 free", err)
	case <-time.After(50 * time.Millisecond):
	}
	b.give(10)
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("take did not wake when the budget freed")
	}
	if got := b.inUse(); got != 100 {
		t.Fatalf("in use %d, want 100", got)
	}

	// A deadline and a closed connection end the wait.
	start := time.Now()
	if err := b.take(1, done, time.Now().Add(30*time.Millisecond).UnixNano()); err != errBudgetDeadline {
		t.Fatalf("take past its deadline: %v", err)
	}
	if waited := time.Since(start); waited < 25*time.Millisecond {
		t.Fatalf("take gave up after %v, before its deadline", waited)
	}
	close(done)
	if err := b.take(1, done, 0); err != errBudgetCancelled {
		t.Fatalf("take on a closed connection: %v", err)
	}
}

func TestDefaultReceiveBudget(t *testing.T) {
	got := defaultReceiveBudget()
	if got < minReceiveBudget {
		t.Fatalf("default budget %d is below %d", got, minReceiveBudget)
	}
	if total := physicalMemory(); total > 0 && got > total/4 && got != minReceiveBudget {
		t.Fatalf("default budget %d is more than a quarter of %d", got, total)
	}
	var o receiveBudgetOnce
	if o.get(-1) != nil {
		t.Fatal("a negative ReceiveBudget must turn the budget off")
	}
	var p receiveBudgetOnce
	if b := p.get(1234); b == nil || b.limit != 1234 || p.get(99) != b {
		t.Fatal("the budget is made once, from the configured size")
	}
}
