package devstack

import "github.com/connect-onboarding/worker/workflows/contract"

// MappingTemplate is the two-object mapping template the dev tools and tests give an
// integration (Account read-only, Contact read-write); extra, when set, adds a field to
// Account: a changed template, for a rollout.
func MappingTemplate(extra string) *contract.MappingTemplate {
	account := map[string]struct{}{"Id": {}, "Name": {}, "SystemModstamp": {}}
	if extra != "" {
		account[extra] = struct{}{}
	}
	return &contract.MappingTemplate{Version: 1, Mappings: []contract.Mapping{
		{ObjectName: "Account", Config: contract.MappingConfig{Access: contract.MappingReadOnly, SFPollingSeconds: 600, SFMaxDailyAPICalls: 30000, Fields: account}},
		{ObjectName: "Contact", Config: contract.MappingConfig{Access: contract.MappingReadWrite, SFPollingSeconds: 600, SFMaxDailyAPICalls: 30000,
			Fields: map[string]struct{}{"Id": {}, "Email": {}, "SystemModstamp": {}}}},
	}}
}
