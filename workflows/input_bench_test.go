package workflows_test

import (
	"testing"

	"github.com/connect-onboarding/worker/workflows"
)

func BenchmarkValidateConnectionInput(b *testing.B) {
	in := input("customer-42").WithDefaults()
	for b.Loop() {
		if err := in.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidatePartnerSpec(b *testing.B) {
	s := spec("beta")
	for b.Loop() {
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddonNameAndSchema(b *testing.B) {
	for b.Loop() {
		_ = workflows.AddonName("acme", "customer-42")
		_ = workflows.DefaultSchema("Customer-42/EU")
	}
}
