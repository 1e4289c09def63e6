package tsdef

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `/* generated */
export type Tags = ('a' | 'b')[] | null
export type Actions = {
  [k: string]: unknown
  id?: string
} & {
  [k: string]: unknown
}[]
export interface Thing {
  [k: string]: unknown
  /**
   * its name
   */
  name?: string
  size: number
  state?: 'on' | 'off'
  owner:
    | {
        [k: string]: unknown
        id?: string
      }
    | Owner
  tags?: Tags
  actions: Actions
  gone_at?: null | string
  note?: string
}
export interface Owner {
  id: string
  email: string
}
`

func TestCheck(t *testing.T) {
	defs, err := Parse(sample)
	require.NoError(t, err)
	require.Contains(t, defs, "Thing")
	opts := Options{MayBeAbsent: map[string]bool{"Thing.note": true}}
	cases := []struct {
		name, doc string
		problems  []string
	}{
		{"all there", `{"name":"x","size":1,"state":"on","owner":{"id":"o"},"tags":["a"],"actions":[{"id":"1"}],"gone_at":null}`, nil},
		{"the other owner shape", `{"name":"x","size":1,"state":"off","owner":{"id":"o","email":"e"},"tags":null,"actions":[],"gone_at":"t"}`, nil},
		{"missing member", `{"size":1,"state":"on","owner":{"id":"o"},"tags":null,"actions":[],"gone_at":null}`, []string{"$.name: missing"}},
		{"invented member", `{"name":"x","size":1,"state":"on","owner":{"id":"o"},"tags":null,"actions":[],"gone_at":null,"extra":1}`,
			[]string{"$.extra: not in the definition"}},
		{"wrong type", `{"name":"x","size":"1","state":"on","owner":{"id":"o"},"tags":null,"actions":[],"gone_at":null}`,
			[]string{`$.size: string "1", want number`}},
		{"null where none is allowed", `{"name":null,"size":1,"state":"on","owner":{"id":"o"},"tags":null,"actions":[],"gone_at":null}`,
			[]string{"$.name: null, want string"}},
		{"literal outside the set", `{"name":"x","size":1,"state":"dim","owner":{"id":"o"},"tags":null,"actions":[],"gone_at":null}`,
			[]string{"$.state: matches none of the 2 alternatives"}},
		{"array items", `{"name":"x","size":1,"state":"on","owner":{"id":"o"},"tags":["c"],"actions":[{"id":2}],"gone_at":null}`,
			[]string{"$.tags: matches none of the 2 alternatives", "$.actions[0].id: number 2, want string"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := defs.Check("Thing", []byte(tc.doc), opts)
			require.NoError(t, err)
			for _, want := range tc.problems {
				assert.Contains(t, got, want)
			}
			if len(tc.problems) == 0 {
				assert.Empty(t, got)
			}
		})
	}
	_, err = defs.Check("Nothing", []byte(`{}`), opts)
	assert.Error(t, err)
}
