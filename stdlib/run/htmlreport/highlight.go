package htmlreport

import (
	"html/template"
	"strings"
	"sync"

	"github.com/qpipe/qpipe/editors/vocab"
)

// words is the highlighting vocabulary, loaded once.
var words = sync.OnceValue(vocab.Load)

// highlight renders recipe text as HTML with one span per classified
// token, its class the editor grammars' token class (editors/vocab).
func highlight(src []byte) template.HTML {
	if src == nil {
		return ""
	}
	var b strings.Builder
	for _, s := range words().Highlight(src) {
		text := template.HTMLEscapeString(string(src[s.Start:s.End]))
		if s.Class == vocab.Plain {
			b.WriteString(text)
			continue
		}
		b.WriteString(`<span class="` + string(s.Class) + `">` + text + `</span>`)
	}
	return template.HTML(b.String())
}
