package contract

import (
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryBuildsOneQuotingRule(t *testing.T) {
	q, err := Customers().Running().Is(SAIsvSlug, "acme").In(SAHerokuAddonID, "a-1", "b-2").Build()
	require.NoError(t, err)
	assert.Equal(t, "WorkflowType = 'ConnectionWorkflow' AND ExecutionStatus = 'Running' AND IsvSlug = 'acme' AND HerokuAddonId IN ('a-1', 'b-2')", q)

	since := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	q, err = Customers().Is(SAIsvSlug, "acme").Closed().ClosedSince(since).IsNot(SAOnboardingStage, string(StageDeactivated)).Build()
	require.NoError(t, err)
	assert.Equal(t, "WorkflowType = 'ConnectionWorkflow' AND IsvSlug = 'acme' AND ExecutionStatus != 'Running' AND CloseTime >= '2026-12-02T10:00:00Z' AND OnboardingStage != 'deactivated'", q)

	q, err = Customers().Is(SAIsvSlug, "acme").StartedBefore(since).Build()
	require.NoError(t, err)
	assert.Equal(t, "WorkflowType = 'ConnectionWorkflow' AND IsvSlug = 'acme' AND StartTime < '2026-12-02T10:00:00Z'", q)
}

// A lookup by one key filters the running customers itself: anything else listed with the
// key (an ended run, another workflow type) is not an owner.
func TestRunningCustomer(t *testing.T) {
	run := func(typ string, st enumspb.WorkflowExecutionStatus) *workflowpb.WorkflowExecutionInfo {
		return &workflowpb.WorkflowExecutionInfo{Type: &commonpb.WorkflowType{Name: typ}, Status: st}
	}
	for _, c := range []struct {
		e    *workflowpb.WorkflowExecutionInfo
		want bool
	}{
		{run(ConnectionWorkflowName, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING), true},
		{run(ConnectionWorkflowName, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED), false},
		{run(ConnectionWorkflowName, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED), false},
		{run(ConnectionWorkflowName, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW), false},
		{run(PartnerWorkflowName, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING), false},
		{&workflowpb.WorkflowExecutionInfo{}, false},
		{nil, false},
	} {
		assert.Equal(t, c.want, RunningCustomer(c.e), "%v", c.e)
	}
}

// A value that could end its literal is refused, not escaped or stripped: the query is
// never built, so it cannot be steered into matching more than it says.
func TestQueryRefusesValuesThatCouldEscapeTheirLiteral(t *testing.T) {
	for _, v := range []string{`x\`, `x'`, `' or WorkflowType != 'x`, `a"b`, "", "new\nline", "tab\t", "100%", "a(b)", string(make([]byte, 301))} {
		_, err := Customers().Is(SAIsvSlug, v).Build()
		assert.Error(t, err, "%q", v)
		_, err = Customers().In(SAHerokuAddonID, "ok", v).Build()
		assert.Error(t, err, "%q", v)
	}
	_, err := Customers().Is(SAIsvSlug, `x\`).Is(SAOnboardingStage, `' or WorkflowType != 'x`).Build()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "IsvSlug", "the error names the attribute")
	_, err = Customers().In(SAHerokuAddonID).Build()
	assert.Error(t, err, "an empty IN matches nothing sensible")
}
