package contract

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkflowIDsParseBack(t *testing.T) {
	isv, customer, err := ParseConnectionWorkflowID(ConnectionWorkflowID("acme", "Cust.42@eu"))
	require.NoError(t, err)
	assert.Equal(t, []string{"acme", "Cust.42@eu"}, []string{isv, customer})

	slug, err := ParsePartnerWorkflowID(PartnerWorkflowID("beta-sync"))
	require.NoError(t, err)
	assert.Equal(t, "beta-sync", slug)

	app, err := ParseWatcherWorkflowID(WatcherWorkflowID("acme-app"))
	require.NoError(t, err)
	assert.Equal(t, "acme-app", app)
}

func TestWorkflowIDParsersRefuseOtherShapes(t *testing.T) {
	for _, id := range []string{"", "connection/", "connection/acme", "connection//c1", "connection/acme/", "connection/Acme!/c1",
		"partner/acme/c1", "watch/acme-app/c1"} {
		_, _, err := ParseConnectionWorkflowID(id)
		assert.Error(t, err, id)
	}
	for _, id := range []string{"", "partner/", "partner/a", "partner/Acme", "partner/acme/x", "connection/acme"} {
		_, err := ParsePartnerWorkflowID(id)
		assert.Error(t, err, id)
	}
	for _, id := range []string{"", "watch/", "watch/app/x", "watch/app/0", "watch//1", "partner/acme"} {
		_, err := ParseWatcherWorkflowID(id)
		assert.Error(t, err, id)
	}
}

// Every message a workflow handles is described for the UI, and names are unique per
// workflow (the watcher's status query shares the customer's name on purpose: another
// workflow).
func TestMessagesAreNamedAndDescribed(t *testing.T) {
	type msg struct{ name, description string }
	workflows := map[string][]msg{
		ConnectionWorkflowName: {
			{UpdateStart.Name, UpdateStart.Description}, {UpdateReissueURL.Name, UpdateReissueURL.Description},
			{UpdateReauthorize.Name, UpdateReauthorize.Description}, {UpdateOffboard.Name, UpdateOffboard.Description},
			{UpdateStatus.Name, UpdateStatus.Description}, {UpdateCustomerReturned.Name, UpdateCustomerReturned.Description},
			{QueryStatus.Name, QueryStatus.Description}, {SignalCustomerReturned.Name, SignalCustomerReturned.Description},
			{SignalConnectionState.Name, SignalConnectionState.Description},
			{SignalIntegrationDeactivated.Name, SignalIntegrationDeactivated.Description},
		},
		WatcherWorkflowName: {
			{SignalWatchRegister.Name, SignalWatchRegister.Description}, {SignalWatchUnregister.Name, SignalWatchUnregister.Description},
			{QueryWatch.Name, QueryWatch.Description},
		},
		AccessWorkflowName: {
			{UpdateConnectionWanted.Name, UpdateConnectionWanted.Description}, {QueryAccess.Name, QueryAccess.Description},
		},
		PartnerWorkflowName: {
			{UpdatePartnerCreate.Name, UpdatePartnerCreate.Description}, {UpdatePartnerUpdate.Name, UpdatePartnerUpdate.Description},
			{UpdatePartnerRefresh.Name, UpdatePartnerRefresh.Description}, {UpdatePartnerDeactivate.Name, UpdatePartnerDeactivate.Description},
			{QueryPartnerInfo.Name, QueryPartnerInfo.Description},
		},
	}
	for wf, msgs := range workflows {
		seen := map[string]bool{}
		for _, m := range msgs {
			assert.NotEmpty(t, m.name, wf)
			assert.GreaterOrEqual(t, len(m.description), 20, "%s %s needs a description", wf, m.name)
			assert.False(t, seen[m.name], "%s has two messages named %s", wf, m.name)
			seen[m.name] = true
		}
	}
}

// An update without input sends no argument (the handler takes none, and histories
// recorded before the typed messages carry none); one with input sends exactly it.
func TestUpdateOptionsCarryTheInputOnlyWhenThereIsOne(t *testing.T) {
	none := UpdateOffboard.Options("connection/acme/c1", None{})
	assert.Equal(t, "onboarding.offboard", none.UpdateName)
	assert.Equal(t, "connection/acme/c1", none.WorkflowID)
	assert.Empty(t, none.Args)
	with := UpdateCustomerReturned.Options("connection/acme/c1", CustomerReturned{Attempt: 2})
	assert.Equal(t, []any{CustomerReturned{Attempt: 2}}, with.Args)
}

func TestSearchAttributesAreListedOnce(t *testing.T) {
	names := SearchAttributes()
	assert.Equal(t, []string{"IsvSlug", "CustomerId", "OnboardingStage", "HerokuAddonId", "ConnectSchema"}, names)
	assert.Len(t, SearchAttributeTypes().GetUntypedValues(), len(names))
}

// Without an image check the contract checks the file's name against its bytes and its
// size; with one, the check's verdict names the logo field.
func TestPartnerSpecValidationTakesTheImageCheck(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	spec := PartnerSpec{Slug: "beta", Team: "isv-team", Name: "Beta", Description: "Syncs", DocsURL: "https://beta.example",
		ContactEmail: "dev@beta.example", Logo: Logo{Filename: "l.png", Data: png}}
	assert.NoError(t, spec.Validate(nil))
	for name, l := range map[string]Logo{
		"not an image": {"l.png", []byte("not an image")},
		"jpeg as png":  {"l.png", []byte("\xff\xd8\xff\xe0\x00\x10JFIF")},
		"png as svg":   {"l.svg", png},
		"gif":          {"l.gif", []byte("GIF89a")},
		"over 5 MB":    {"l.png", append(png, make([]byte, 5<<20)...)},
		"svg as png":   {"l.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"/>`)},
	} {
		bad := spec
		bad.Logo = l
		assert.ErrorContains(t, bad.Validate(nil), "logo: ", name)
	}
	spec.Logo = Logo{Filename: "l.svg", Data: []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"/>`)}
	assert.NoError(t, spec.Validate(nil))
	spec.Logo = Logo{Filename: "l.png", Data: png}
	err := spec.Validate(func(string, []byte) error { return assert.AnError })
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []FieldError{{"logo", assert.AnError.Error()}}, ve.Fields)
	spec.Logo.Data = append(png, make([]byte, MaxLogoTransportBytes)...)
	assert.ErrorContains(t, spec.Validate(nil), "payload limit")
	spec.Logo = Logo{}
	assert.ErrorContains(t, spec.Validate(nil), "logo: is required")
}
