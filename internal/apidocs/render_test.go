package apidocs

import "testing"

func TestDocsPageBadDocument(t *testing.T) {
	for name, src := range map[string]string{
		"not yaml":      "openapi: [",
		"bad parameter": "paths:\n  /x:\n    get:\n      parameters:\n        - $ref: '#/components/parameters/Nope'\n",
		"bad response":  "paths:\n  /x:\n    get:\n      responses:\n        '200': {$ref: '#/components/responses/Nope'}\n",
	} {
		if _, err := Render([]byte(src)); err == nil {
			t.Errorf("%s: rendered without error", name)
		}
	}
}

func TestMarkdown(t *testing.T) {
	got := string(markdown("Use `a<b>`.\n\nSecond & last."))
	want := "<p>Use <code>a&lt;b&gt;</code>.</p><p>Second &amp; last.</p>"
	if got != want {
		t.Errorf("markdown = %q, want %q", got, want)
	}
}
