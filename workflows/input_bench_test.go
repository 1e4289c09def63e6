package workflows_test

import (
	"testing"

	"github.com/connect-onboarding/worker/internal/logo"
	"github.com/connect-onboarding/worker/workflows/contract"
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
		if err := s.Validate(logo.Valid); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddonNameAndSchema(b *testing.B) {
	for b.Loop() {
		_ = contract.AddonName("acme", "customer-42")
		_ = contract.DefaultSchema("Customer-42/EU")
	}
}
