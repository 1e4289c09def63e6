package strictjson

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type inner struct {
	OrgID string `json:"sf_org_id"`
}

type req struct {
	Slug     string            `json:"isv_slug"`
	Customer string            `json:"customer_id"`
	Inner    inner             `json:"salesforce"`
	Count    int               `json:"count,omitempty"`
	Wait     time.Duration     `json:"wait,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	List     []inner           `json:"list,omitempty"`
}

func TestStrictDecoding(t *testing.T) {
	var ok req
	require.NoError(t, Decode([]byte(`{"isv_slug":"acme","customer_id":"c1","salesforce":{"sf_org_id":"x"},"tags":{"a":"b"},"list":[{"sf_org_id":"y"}]}`), &ok))
	assert.Equal(t, "x", ok.Inner.OrgID)
	assert.Equal(t, "y", ok.List[0].OrgID)

	cases := map[string]struct{ body, field, rule string }{
		"duplicate key":      {`{"customer_id":"x/y","customer_id":"ok"}`, "customer_id", "more than once"},
		"nested duplicate":   {`{"salesforce":{"sf_org_id":"a","sf_org_id":"b"}}`, "salesforce.sf_org_id", "more than once"},
		"upper-case key":     {`{"ISV_SLUG":"acme"}`, "ISV_SLUG", "case-sensitive"},
		"unknown key":        {`{"nope":1}`, "nope", "not a field"},
		"trailing garbage":   {`{"isv_slug":"acme"} {"x":1}`, "", "nothing may follow"},
		"trailing text":      {`{"isv_slug":"acme"}garbage`, "", "nothing may follow"},
		"not an object":      {`["x"]`, "", "one JSON object"},
		"huge number":        {`{"count":1e400}`, "count", "integer"},
		"overflowing int":    {`{"count":99999999999999999999999}`, "count", "integer"},
		"string for int":     {`{"count":"3"}`, "count", "integer"},
		"duration as text":   {`{"wait":"1s"}`, "wait", "duration"},
		"object for string":  {`{"isv_slug":{"a":1}}`, "isv_slug", "string"},
		"invalid utf-8":      {"{\"isv_slug\":\"\xff\xfe\"}", "", "UTF-8"},
		"list element extra": {`{"list":[{"sf_org_id":"y","x":1}]}`, "list[0].x", "not a field"},
		"truncated":          {`{"isv_slug":"acme"`, "", "JSON"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var r req
			err := Decode([]byte(tc.body), &r)
			require.Error(t, err)
			var se *Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.field, se.Fields[0].Field)
			assert.Contains(t, se.Fields[0].Rule, tc.rule)
			assert.False(t, strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "int64"), "no Go types: %s", err)
		})
	}
}

// Bytes that are not base64 are named with their field and rule, not "not valid JSON"
// (issue 22 item 13: a logo's data).
func TestBytesNotBase64NameTheField(t *testing.T) {
	var dst struct {
		Logo struct {
			Filename string `json:"filename"`
			Data     []byte `json:"data"`
		} `json:"logo"`
	}
	err := Decode([]byte(`{"logo":{"filename":"l.png","data":"not base64!"}}`), &dst)
	var e *Error
	if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "logo.data" {
		t.Fatalf("got %v", err)
	}
	if err := Decode([]byte(`{"logo":{"filename":"l.png","data":"aGVsbG8="}}`), &dst); err != nil || string(dst.Logo.Data) != "hello" {
		t.Fatalf("good base64 refused: %v", err)
	}
}
