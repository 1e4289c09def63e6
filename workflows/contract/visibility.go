package contract

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Visibility builds a visibility query, the one way this project writes one. Every value is a
// single-quoted literal, and a value that could end its literal or reach past it (a quote,
// a backslash, anything outside letters, digits and - _ . : / @ and space) is refused, never
// escaped or stripped: values come from requests, workflow inputs and Heroku's answers, all
// of them hostile. An error names the attribute and the value's rule.
type Visibility struct {
	conds []string
	err   error
}

// Customers starts a query over the customer connection workflows.
func Customers() *Visibility {
	return (&Visibility{}).add("WorkflowType = " + literal(ConnectionWorkflowName))
}

// Running keeps the running runs only.
func (q *Visibility) Running() *Visibility { return q.add("ExecutionStatus = 'Running'") }

// Closed keeps the closed runs only.
func (q *Visibility) Closed() *Visibility { return q.add("ExecutionStatus != 'Running'") }

// ClosedSince keeps runs closed at or after t.
func (q *Visibility) ClosedSince(t time.Time) *Visibility {
	return q.add("CloseTime >= " + literal(t.UTC().Format(time.RFC3339Nano)))
}

// StartedBefore keeps runs started before t.
func (q *Visibility) StartedBefore(t time.Time) *Visibility {
	return q.add("StartTime < " + literal(t.UTC().Format(time.RFC3339Nano)))
}

// Unset keeps runs whose key was never set.
func (q *Visibility) Unset(key temporal.SearchAttributeKeyKeyword) *Visibility {
	return q.add(key.GetName() + " IS NULL")
}

// Is keeps runs whose key equals value.
func (q *Visibility) Is(key temporal.SearchAttributeKeyKeyword, value string) *Visibility {
	return q.compare(key, "=", value)
}

// IsNot keeps runs whose key differs from value.
func (q *Visibility) IsNot(key temporal.SearchAttributeKeyKeyword, value string) *Visibility {
	return q.compare(key, "!=", value)
}

// In keeps runs whose key is one of values (at least one).
func (q *Visibility) In(key temporal.SearchAttributeKeyKeyword, values ...string) *Visibility {
	if len(values) == 0 {
		return q.fail(fmt.Errorf("%s: a visibility query needs at least one value to match", key.GetName()))
	}
	lits := make([]string, len(values))
	for i, v := range values {
		if err := CheckQueryValue(key.GetName(), v); err != nil {
			return q.fail(err)
		}
		lits[i] = literal(v)
	}
	return q.add(key.GetName() + " IN (" + strings.Join(lits, ", ") + ")")
}

// Count counts the runs the query matches (a count, never a list); the error names the query's
// first refused value, or the server's answer.
func (q *Visibility) Count(ctx context.Context, c client.Client) (int64, error) {
	text, err := q.Build()
	if err != nil {
		return 0, err
	}
	r, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: text})
	if err != nil {
		return 0, fmt.Errorf("count workflows: %w", err)
	}
	return r.Count, nil
}

// Build is the query text, or the first error of a value refused on the way.
func (q *Visibility) Build() (string, error) {
	if q.err != nil {
		return "", q.err
	}
	return strings.Join(q.conds, " AND "), nil
}

func (q *Visibility) compare(key temporal.SearchAttributeKeyKeyword, op, value string) *Visibility {
	if err := CheckQueryValue(key.GetName(), value); err != nil {
		return q.fail(err)
	}
	return q.add(key.GetName() + " " + op + " " + literal(value))
}

func (q *Visibility) add(cond string) *Visibility {
	if q.err == nil {
		q.conds = append(q.conds, cond)
	}
	return q
}

func (q *Visibility) fail(err error) *Visibility {
	if q.err == nil {
		q.err = err
	}
	return q
}

// literal quotes a value CheckQueryValue accepted.
func literal(v string) string { return "'" + v + "'" }

// CheckQueryValue is the rule of a value in a visibility query: 1 to 300 of letters,
// digits, '-', '_', '.', ':', '/', '@', '+' and space.
func CheckQueryValue(field, v string) error {
	if v == "" || len(v) > 300 {
		return fmt.Errorf("%s: must be 1 to 300 characters to be looked up", field)
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@+ ", r)) {
			return fmt.Errorf("%s: %q has a character a visibility query cannot hold (letters, digits and - _ . : / @ + space only)", field, v)
		}
	}
	return nil
}
