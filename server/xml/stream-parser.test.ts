import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element, type Attrs } from './element.ts';
import { StreamError } from './errors.ts';
import { MAX_ATTRIBUTES, MAX_DEPTH, parseXml, StreamParser, type StreamParserOptions } from './stream-parser.ts';

const NS_STREAMS = 'http://etherx.jabber.org/streams';
const HEADER = `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' to='example.com' version='1.0'>`;

/** Records every callback as an event, stanzas serialized. */
class Recorder {
  events: string[] = [];
  elements: Element[] = [];
  headers: Attrs[] = [];
  errors: StreamError[] = [];
  parser: StreamParser;

  constructor(options: Partial<StreamParserOptions> = {}) {
    this.parser = new StreamParser({
      streamStart: (attrs) => {
        this.headers.push(attrs);
        this.events.push('start');
      },
      element: (el) => {
        this.elements.push(el);
        this.events.push(el.toString());
      },
      streamEnd: () => this.events.push('end'),
      error: (err) => {
        this.errors.push(err);
        this.events.push(`error ${err.condition}`);
      },
    }, { maxStanzaBytes: 10_000, ...options });
  }

  write(...chunks: (string | Buffer)[]): this {
    for (const c of chunks) this.parser.write(c);
    return this;
  }

  get error(): StreamError | undefined {
    return this.errors[0];
  }
}

function parseStream(body: string, options?: Partial<StreamParserOptions>): Recorder {
  return new Recorder(options).write(HEADER + body);
}

/** The condition of the first error after writing `body` inside a stream. */
function errorOf(body: string | Buffer, options?: Partial<StreamParserOptions>): string | undefined {
  const r = new Recorder(options).write(HEADER, body);
  assert.ok(r.errors.length <= 1, 'error() is called at most once');
  return r.error?.condition;
}

test('a stream header, stanzas and the stream end are delivered in order', () => {
  const r = parseStream("<message to='a@b'><body>hi</body></message><presence/></stream:stream>");
  assert.deepEqual(r.events, [
    'start',
    '<message to="a@b" xmlns="jabber:client"><body>hi</body></message>',
    '<presence xmlns="jabber:client"/>',
    'end',
  ]);
  assert.deepEqual(r.headers[0], { xmlns: 'jabber:client', 'xmlns:stream': NS_STREAMS, to: 'example.com', version: '1.0' });
});

test('the XML declaration is accepted at the start, with or without encoding', () => {
  for (const decl of ["<?xml version='1.0'?>", '<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>"]) {
    const r = new Recorder().write(decl + HEADER + '<iq/>');
    assert.deepEqual(r.events, ['start', '<iq xmlns="jabber:client"/>'], decl);
  }
  // a byte order mark may precede it
  const r = new Recorder().write(Buffer.from([0xef, 0xbb, 0xbf]), "<?xml version='1.0'?>" + HEADER);
  assert.deepEqual(r.events, ['start']);
});

test('whitespace keepalives between stanzas are ignored', () => {
  const r = new Recorder().write(HEADER, ' ', '\n', '<iq/>', ' \t\r\n ', '<iq/>', ' ');
  assert.deepEqual(r.events, ['start', '<iq xmlns="jabber:client"/>', '<iq xmlns="jabber:client"/>']);
  assert.equal(r.parser.pending, false);
});

test('a stanza split at every byte offset, inside multi-byte characters too, parses the same', () => {
  const doc = HEADER
    + "<message to='j\u00fcrgen@b\u00e4r.example/\u{1F600}' id='a&amp;b'><body>caf\u00e9 \u4e2d\u6587 \u{1F600} &lt;x&gt; &#x1F600;</body>"
    + '<x xmlns="urn:x"><![CDATA[<raw> & \u00e9]]></x></message> <iq type="get"><q xmlns="urn:q" a="&quot;\u00e9&apos;"/></iq></stream:stream>';
  const bytes = Buffer.from(doc);
  const expected = new Recorder().write(bytes).events;
  assert.equal(expected.length, 4);
  assert.equal(expected[1], '<message to="j\u00fcrgen@b\u00e4r.example/\u{1F600}" id="a&amp;b" xmlns="jabber:client">'
    + '<body>caf\u00e9 \u4e2d\u6587 \u{1F600} &lt;x&gt; \u{1F600}</body><x xmlns="urn:x">&lt;raw&gt; &amp; \u00e9</x></message>');
  for (let i = 1; i < bytes.length; i++) {
    const r = new Recorder().write(bytes.subarray(0, i), bytes.subarray(i));
    assert.deepEqual(r.events, expected, `split at byte ${i}`);
  }
  // every split of the text as a string, including between the halves of a surrogate pair
  for (let i = 1; i < doc.length; i++) {
    const r = new Recorder().write(doc.slice(0, i), doc.slice(i));
    assert.deepEqual(r.events, expected, `split at char ${i}`);
  }
  const byByte = new Recorder();
  for (let i = 0; i < bytes.length; i++) byByte.write(bytes.subarray(i, i + 1));
  assert.deepEqual(byByte.events, expected, 'one byte at a time');
});

test('long text cut by chunk boundaries is delivered whole, whatever the boundary splits', () => {
  const long = 'x'.repeat(1500);
  const raw = `${long}]]&amp;\r\n&#x1F600;\u00e9]]]&lt;\r${long}`;
  const expected = `${long}]]&\n\u{1F600}\u00e9]]]<\n${long}`;
  const bytes = Buffer.from(`${HEADER}<message><body>${raw}</body></message>`);
  const start = bytes.indexOf(']]&amp;');
  for (let i = start - 3; i < start + 45; i++) {
    const r = new Recorder().write(bytes.subarray(0, i), bytes.subarray(i));
    assert.equal(r.error, undefined, `split at ${i}`);
    assert.equal(r.elements[0]!.getChildText('body'), expected, `split at ${i}`);
    assert.equal(r.elements[0]!.getChild('body')!.children.length, 1, 'pieces are merged');
  }
  // ']]>' is caught even when a boundary falls inside it
  const bad = Buffer.from(`${HEADER}<message><body>${long}]]>${long}</body></message>`);
  const at = bad.indexOf(']]>');
  for (const i of [at, at + 1, at + 2, at + 3]) {
    assert.equal(new Recorder().write(bad.subarray(0, i), bad.subarray(i)).error?.condition, 'not-well-formed', `split at ${i}`);
  }
  // and the limit still applies to text delivered in pieces
  const r = new Recorder({ maxStanzaBytes: 5000 }).write(HEADER, '<message><body>');
  for (let i = 0; i < 10 && !r.error; i++) r.write(long);
  assert.equal(r.error?.condition, 'policy-violation');
});

test('stanzas inherit the stream default namespace, explicit ones are kept', () => {
  const r = parseStream("<message><body>x</body></message><iq xmlns='jabber:server'/><r xmlns='urn:xmpp:sm:3'/>");
  const [message, iq, ack] = r.elements;
  assert.equal(message!.attrs.xmlns, 'jabber:client');
  assert.equal(message!.getChild('body')!.getNS(), 'jabber:client');
  assert.equal(message!.getChild('body')!.parent, message);
  assert.equal(iq!.attrs.xmlns, 'jabber:server');
  assert.equal(ack!.getNS(), 'urn:xmpp:sm:3');
  assert.equal(message!.parent, null);
});

test('stream-prefixed elements are valid at depth 1 and carry the prefix declaration', () => {
  const r = parseStream('<stream:features><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></stream:features><stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>');
  assert.equal(r.error, undefined);
  const [features, error] = r.elements;
  assert.ok(features!.is('features', NS_STREAMS));
  assert.equal(features!.attrs['xmlns:stream'], NS_STREAMS);
  assert.ok(features!.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'));
  assert.ok(error!.is('error', NS_STREAMS));
  // serialized alone, it is still namespace-well-formed
  assert.ok(parseXml(features!.toString()).is('features', NS_STREAMS));
});

test('prefixes declared on the stanza or in it, and xml:, are accepted', () => {
  const r = parseStream("<message xmlns:p='urn:p' xml:lang='en'><p:x p:a='1'><y xmlns:q='urn:q' q:b='2'><q:z/></y></p:x><w r:c='3' xmlns:r='urn:r'/></message>");
  assert.equal(r.error, undefined);
  const x = r.elements[0]!.getChild('x', 'urn:p')!;
  assert.equal(x.attrs['p:a'], '1');
  assert.equal(x.getChild('y')!.getChild('z', 'urn:q')!.getNS(), 'urn:q');
  assert.equal(r.elements[0]!.attrs['xml:lang'], 'en');
});

test('undeclared prefixes are bad-namespace-prefix', () => {
  assert.equal(errorOf('<foo:message/>'), 'bad-namespace-prefix');
  assert.equal(errorOf('<message><p:x/></message>'), 'bad-namespace-prefix');
  assert.equal(errorOf("<message p:a='1'/>"), 'bad-namespace-prefix');
  assert.equal(errorOf("<message><x xmlns:p='urn:p'/><p:y/></message>"), 'bad-namespace-prefix', 'scope ends with the element');
  assert.equal(new Recorder().write("<s:stream xmlns='jabber:client'>").error?.condition, 'bad-namespace-prefix');
});

test('a prefixed stanza reaches the stream as an unprefixed one, its namespace in xmlns', () => {
  const r = parseStream("<c:message xmlns:c='jabber:client' to='a@b'><c:body>hi</c:body><x xmlns='urn:x'/></c:message>");
  assert.equal(r.error, undefined);
  const message = r.elements[0]!;
  assert.equal(message.name, 'message');
  assert.equal(message.attrs.xmlns, 'jabber:client');
  assert.equal(message.attrs.to, 'a@b');
  assert.equal(message.getChildText('body', 'jabber:client'), 'hi');
  assert.ok(message.getChild('x', 'urn:x'));
  // serialized alone, it means the same
  const back = parseXml(message.toString());
  assert.equal(back.name, 'message');
  assert.equal(back.getChildText('body', 'jabber:client'), 'hi');

  // a prefix declared on the stream header, and self-closing stanzas
  const s = new Recorder().write(`<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' xmlns:c='jabber:client' version='1.0'><c:presence/><c:iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></c:iq>`);
  assert.equal(s.error, undefined);
  assert.deepEqual(s.elements.map((e) => [e.name, e.attrs.xmlns]), [['presence', 'jabber:client'], ['iq', 'jabber:client']]);
  assert.equal(s.elements[1]!.attrs['xmlns:c'], 'jabber:client', 'the declaration travels with the stanza');
  assert.ok(s.elements[1]!.getChild('ping', 'urn:xmpp:ping'));

  // a prefix for another namespace is not jabber:client, whatever the name
  assert.equal(parseStream("<s:message xmlns:s='jabber:server'/>").elements[0]!.attrs.xmlns, 'jabber:server');
});

test('unprefixing keeps every namespace: children that inherited the default get it explicitly', () => {
  // the default namespace inside c:message is urn:d; after the rename, body must stay in urn:d
  const r = parseStream("<c:message xmlns:c='jabber:client' xmlns='urn:d'><body><i/></body><c:thread>t</c:thread></c:message>");
  const message = r.elements[0]!;
  assert.equal(message.attrs.xmlns, 'jabber:client');
  assert.equal(message.getChild('body')!.getNS(), 'urn:d');
  assert.equal(message.getChild('body')!.getChild('i')!.getNS(), 'urn:d');
  assert.equal(message.getChild('thread')!.getNS(), 'jabber:client');
  // nested prefixed elements too
  const n = parseStream("<message><p:x xmlns:p='urn:p'><y/></p:x></message>").elements[0]!;
  const x = n.getChild('x', 'urn:p')!;
  assert.equal(x.name, 'x');
  assert.equal(x.getChild('y')!.getNS(), 'jabber:client');
  const back = parseXml(n.toString());
  assert.equal(back.getChild('x', 'urn:p')!.getChild('y')!.getNS(), 'jabber:client');
  // framed: no default namespace in scope, so children are explicitly in none
  const f = new Recorder({ framed: true }).write("<c:message xmlns:c='jabber:client'><body>x</body></c:message>").elements[0]!;
  assert.equal(f.name, 'message');
  assert.equal(f.attrs.xmlns, 'jabber:client');
  assert.equal(f.getChild('body')!.getNS(), '');
  // the streams and XML namespaces keep their prefix
  const kept = parseStream("<stream:features/><message><xml:x/></message>").elements;
  assert.equal(kept[0]!.name, 'stream:features');
  assert.equal(kept[1]!.getChildElements()[0]!.name, 'xml:x');
  // BOSH: the stanzas inside <body/> are unprefixed too
  const body = parseXml("<body xmlns='http://jabber.org/protocol/httpbind' xmlns:c='jabber:client'><c:message to='a@b'/></body>");
  assert.equal(body.getChildElements()[0]!.name, 'message');
  assert.equal(body.getChildElements()[0]!.attrs.xmlns, 'jabber:client');
});

test('two attributes with the same namespace and local name are not-well-formed', () => {
  assert.equal(errorOf("<message xmlns:a='urn:u' xmlns:b='urn:u' a:x='1' b:x='2'/>"), 'not-well-formed');
  assert.equal(errorOf("<message xmlns:a='urn:u'><b:y xmlns:b='urn:u' a:x='1' b:x='2'/></message>"), 'not-well-formed');
  assert.equal(errorOf("<message xmlns:a='urn:u' xmlns:b='urn:u' a:x='1' b:x='2'>"), 'not-well-formed', 'found at the start tag');
  assert.equal(new Recorder().write(`<stream:stream xmlns:stream='${NS_STREAMS}' xmlns:a='urn:u' xmlns:b='urn:u' a:x='1' b:x='2'>`).error?.condition, 'not-well-formed');
  // xml:lang and a:lang with a bound elsewhere differ, as do x and a:x
  assert.equal(errorOf("<message xmlns:a='urn:u' xmlns:b='urn:v' a:x='1' b:x='2' x='3' xml:lang='en' a:lang='x'/>"), undefined);
});

test('the reserved prefixes and namespaces cannot be rebound', () => {
  const NS_XML = 'http://www.w3.org/XML/1998/namespace';
  const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';
  const cases: Record<string, string> = {
    'xml bound to another namespace': "<message xmlns:xml='urn:x'/>",
    'another prefix bound to the XML namespace': `<message xmlns:x='${NS_XML}'/>`,
    'the XML namespace as the default': `<message><x xmlns='${NS_XML}'/></message>`,
    'xmlns declared': "<message xmlns:xmlns='urn:x'/>",
    'xmlns declared as itself': `<message xmlns:xmlns='${NS_XMLNS}'/>`,
    'a prefix bound to the xmlns namespace': `<message xmlns:x='${NS_XMLNS}'/>`,
    'the xmlns namespace as the default': `<message xmlns='${NS_XMLNS}'/>`,
    'an element with the xmlns prefix': '<message><xmlns:x/></message>',
  };
  for (const [name, input] of Object.entries(cases)) assert.equal(errorOf(input), 'not-well-formed', name);
  assert.equal(new Recorder().write(`<stream:stream xmlns:stream='${NS_STREAMS}' xmlns:xml='urn:x'>`).error?.condition, 'not-well-formed', 'on the stream header');
  assert.equal(new Recorder().write(`<xml:stream xmlns:stream='${NS_STREAMS}'>`).error?.condition, 'invalid-namespace');
  // declaring xml as what it is anyway is allowed
  assert.equal(errorOf(`<message xmlns:xml='${NS_XML}' xml:lang='en'/>`), undefined);
});

test('the stream root must be <stream/> in the streams namespace', () => {
  const stanza = new Recorder().write("<message xmlns='jabber:client'/>").error;
  assert.equal(stanza?.condition, 'invalid-namespace');
  assert.match(stanza?.text ?? '', /not <message> in jabber:client$/, 'the answer names what came instead');
  assert.equal(new Recorder().write("<stream:stream xmlns:stream='urn:wrong'>").error?.condition, 'invalid-namespace');
  assert.equal(new Recorder().write(`<stream:foo xmlns:stream='${NS_STREAMS}'>`).error?.condition, 'invalid-namespace');
  // any prefix works, as namespaces say
  const r = new Recorder().write(`<s:stream xmlns='jabber:client' xmlns:s='${NS_STREAMS}'><iq/></s:stream>`);
  assert.deepEqual(r.events, ['start', '<iq xmlns="jabber:client"/>', 'end']);
});

test('attribute values are unescaped and normalized, and survive serialization', () => {
  const r = parseStream(`<message a="&amp;&lt;&gt;&quot;&apos;" b='&#65;&#x42;&#x1F600;' c = "x'y" d='p"q' e='tab\there\nnl' f='&#9;&#10;&#13;' g='a>b'/>`);
  const attrs = r.elements[0]!.attrs;
  assert.deepEqual({ ...attrs }, {
    a: '&<>"\'', b: 'AB\u{1F600}', c: "x'y", d: 'p"q', e: 'tab here nl', f: '\t\n\r', g: 'a>b', xmlns: 'jabber:client',
  });
  assert.deepEqual({ ...parseXml(r.elements[0]!.toString()).attrs }, { ...attrs });
});

test('attribute names that exist on Object.prototype are plain attributes', () => {
  const r = parseStream("<message constructor='1' toString='2' __proto__='3' hasOwnProperty='4'/>");
  assert.equal(r.error, undefined);
  const attrs = r.elements[0]!.attrs;
  assert.equal(attrs.constructor, '1');
  assert.equal(attrs.toString, '2');
  assert.equal(Object.getOwnPropertyDescriptor(attrs, '__proto__')?.value, '3');
  assert.equal(Object.getPrototypeOf(attrs), Object.prototype);
  assert.equal(errorOf("<message constructor='1' constructor='2'/>"), 'not-well-formed');
});

test('text is unescaped, CDATA kept as text and merged with neighbouring text', () => {
  const r = parseStream('<message><body>a &amp; b<![CDATA[ <c> & ]]]>d&#233;</body><e><![CDATA[]]></e></message>');
  const body = r.elements[0]!.getChild('body')!;
  assert.deepEqual(body.children, ['a & b <c> & ]d\u00e9']);
  assert.deepEqual(r.elements[0]!.getChild('e')!.children, []);
});

test('line ends are normalized, even when CR and LF arrive in different chunks', () => {
  const r = new Recorder().write(HEADER, '<message><body>a\r\nb\rc\r', '\nd&#13;</body></message>');
  assert.equal(r.elements[0]!.getChildText('body'), 'a\nb\nc\nd\r');
});

test('markup that restricted XML forbids is restricted-xml', () => {
  assert.equal(errorOf('<!-- hello -->'), 'restricted-xml');
  assert.equal(errorOf('<message><!-- hello --></message>'), 'restricted-xml');
  assert.equal(errorOf('<message><?php echo 1; ?></message>'), 'restricted-xml');
  assert.equal(errorOf("<?xml version='1.0'?>"), 'restricted-xml', 'declaration after the start');
  assert.equal(errorOf('<!DOCTYPE foo>'), 'restricted-xml');
  assert.equal(errorOf('<message><!ENTITY x "y"></message>'), 'restricted-xml');
  assert.equal(errorOf('<message><![INCLUDE[ x ]]></message>'), 'restricted-xml');
  assert.equal(errorOf('<message><body>&nbsp;</body></message>'), 'restricted-xml');
  assert.equal(errorOf("<message a='&foo;'/>"), 'restricted-xml');
  assert.equal(new Recorder().write('<!DOCTYPE x>' + HEADER).error?.condition, 'restricted-xml');
  assert.equal(new Recorder().write(' <?xml version="1.0"?>').error?.condition, 'restricted-xml', 'declaration not first');
});

test('malformed references are not-well-formed', () => {
  for (const body of ['&amp', '&amp x', '& ', '&#xZZ;', '&#;', '&#x;', '&#X41;', '&#12a;', '&#0;', '&#1;', '&#xD800;', '&#xFFFE;', '&#x110000;', '&#99999999999;', '&1a;']) {
    assert.equal(errorOf(`<message><body>${body}</body></message>`), 'not-well-formed', body);
  }
  assert.equal(errorOf("<message a='&amp'/>"), 'not-well-formed');
});

test('error texts quote the input with only what XML can carry: they go back to the peer', () => {
  const inputs = ['<message></mes\uFFFFsage>', '<message></mes\u0001sage>', `<message></${'x'.repeat(39)}\u{1F600}>`, `<${'y'.repeat(39)}\u{1F600}></z>`];
  for (const input of inputs) {
    const r = parseStream(input);
    assert.equal(r.error?.condition, 'not-well-formed', input);
    const sent = r.error!.toElement();
    sent.attrs['xmlns:stream'] = NS_STREAMS;
    assert.ok(parseXml(sent.toString()).is('error', NS_STREAMS), `${JSON.stringify(r.error!.text)} serializes to well-formed XML`);
  }
});

test('malformed markup is not-well-formed', () => {
  const cases: Record<string, string> = {
    'mismatched end tag': '<message><body></message></body>',
    'end tag of another element': '<message></presence>',
    'end tag without start': '</message>',
    'space after </': '<message></ message>',
    '< in attribute value': "<message a='x<y'/>",
    'duplicate attribute': "<message a='1' a='2'/>",
    'unquoted attribute': '<message a=1/>',
    'attribute without value': '<message a/>',
    'attributes not separated': "<message a='1'b='2'/>",
    'name starting with a digit': '<1message/>',
    'empty name': '< message/>',
    'two colons': '<a:b:c/>',
    'trailing colon': '<a:/>',
    'invalid name character': '<mes$sage/>',
    'slash not before >': "<message a='1' / >",
    ']]> in text': '<message><body>a]]>b</body></message>',
    'text between stanzas': 'hello',
    'CDATA between stanzas': '<![CDATA[x]]>',
    'entity between stanzas': '&amp;',
    'empty namespace prefix binding': "<message xmlns:p=''/>",
  };
  for (const [what, body] of Object.entries(cases)) assert.equal(errorOf(body), 'not-well-formed', what);
});

test('nothing but whitespace may follow the end of the stream', () => {
  assert.deepEqual(parseStream('</stream:stream>\n ').events, ['start', 'end']);
  assert.equal(errorOf('</stream:stream><message/>'), 'not-well-formed');
  assert.equal(errorOf('</stream:stream>x'), 'not-well-formed');
  assert.equal(errorOf('</stream:stream></stream:stream>'), 'not-well-formed');
  assert.equal(errorOf('</stream:other>'), 'not-well-formed');
});

test('characters outside the XML Char production are not-well-formed', () => {
  for (const ch of ['\u0000', '\u0001', '\u0008', '\u000b', '\u001f', '\ufffe', '\uffff']) {
    const hex = ch.charCodeAt(0).toString(16);
    assert.equal(errorOf(`<message><body>a${ch}b</body></message>`), 'not-well-formed', `text U+${hex}`);
    assert.equal(errorOf(Buffer.from(`<message><body>a${ch}b</body></message>`)), 'not-well-formed', `bytes U+${hex}`);
    assert.equal(errorOf(`<message a='${ch}'/>`), 'not-well-formed', `attribute U+${hex}`);
    assert.equal(errorOf(`<message${ch}/>`), 'not-well-formed', `tag U+${hex}`);
    assert.equal(errorOf(`<message><![CDATA[${ch}]]></message>`), 'not-well-formed', `CDATA U+${hex}`);
    assert.equal(errorOf(ch), 'not-well-formed', `between stanzas U+${hex}`);
  }
  assert.equal(errorOf('<message><body>\ud800</body></message>'), 'not-well-formed', 'lone high surrogate');
  assert.equal(errorOf('<message><body>\udc00x</body></message>'), 'not-well-formed', 'lone low surrogate');
  // what is allowed: tab, LF, U+FFFD, astral characters
  assert.equal(errorOf('<message><body>\t\n\ufffd\u{10FFFF}</body></message>'), undefined);
});

test('bytes that are not UTF-8 are unsupported-encoding (RFC 6120 11.6)', () => {
  const open = Buffer.from('<message><body>');
  for (const bad of [[0xc3, 0x28], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe9, 0x74, 0xe9], [0x80]]) {
    assert.equal(errorOf(Buffer.concat([open, Buffer.from(bad)])), 'unsupported-encoding', Buffer.from(bad).toString('hex'));
  }
  // a genuine U+FFFD is fine, also when its three bytes arrive one at a time
  const fffd = Buffer.from('\ufffd');
  const r = new Recorder().write(HEADER, open, fffd.subarray(0, 1), fffd.subarray(1, 2), fffd.subarray(2), '</body></message>');
  assert.equal(r.error, undefined);
  assert.equal(r.elements[0]!.getChildText('body'), '\ufffd');
  // and an invalid byte next to a genuine one is still caught
  assert.equal(errorOf(Buffer.concat([open, fffd, Buffer.from([0xbf, 0xbd])])), 'unsupported-encoding');
  // UTF-16 and other declared encodings
  assert.equal(new Recorder().write(Buffer.from('\ufeff<stream', 'utf16le')).error?.condition, 'unsupported-encoding');
  assert.equal(new Recorder().write(Buffer.from([0xfe, 0xff, 0, 0x3c])).error?.condition, 'unsupported-encoding');
  assert.equal(new Recorder().write("<?xml version='1.0' encoding='ISO-8859-1'?>").error?.condition, 'unsupported-encoding');
  assert.equal(new Recorder().write("<?xml encoding='UTF-8'?>").error?.condition, 'not-well-formed', 'declaration without version');
});

test('a stanza over the size limit is a policy-violation before it ends', () => {
  assert.ok(Buffer.byteLength(HEADER) < 150);
  const r = new Recorder({ maxStanzaBytes: 150 }).write(HEADER, '<message><body>');
  let written = 15;
  for (; written <= 150 && !r.error; written += 10) r.write('0123456789');
  assert.equal(written, 155, 'detected by the chunk that crossed the limit');
  assert.equal(r.error?.condition, 'policy-violation');
  assert.match(r.error!.text!, /150 bytes/);
  assert.equal(r.errors.length, 1);
  // so is an unfinished tag
  assert.equal(errorOf(`<message a='${'x'.repeat(200)}`, { maxStanzaBytes: 150 }), 'policy-violation');
  assert.equal(errorOf(`<message a='${'x'.repeat(100)}`, { maxStanzaBytes: 150 }), undefined);
});

test('the size limit counts UTF-8 bytes of the whole element, tags included', () => {
  const stanza = `<message><body>${'\u00e9'.repeat(100)}</body></message>`;
  assert.equal(stanza.length, 132);
  assert.equal(Buffer.byteLength(stanza), 232);
  assert.equal(errorOf(stanza, { maxStanzaBytes: 232 }), undefined);
  assert.equal(errorOf(stanza, { maxStanzaBytes: 231 }), 'policy-violation');
  assert.equal(errorOf(Buffer.from(stanza), { maxStanzaBytes: 231 }), 'policy-violation');
  // whitespace between stanzas does not count, and each stanza starts from zero
  const r = new Recorder({ maxStanzaBytes: 232 }).write(HEADER, stanza, '   ', stanza, ' '.repeat(1000), stanza);
  assert.equal(r.error, undefined);
  assert.equal(r.elements.length, 3);
});

test('the limit can grow while the stream runs', () => {
  const big = `<iq id='${'x'.repeat(500)}'/>`;
  assert.equal(errorOf(big, { maxStanzaBytes: 200 }), 'policy-violation');
  const r = new Recorder({ maxStanzaBytes: 200 }).write(HEADER, '<iq/>');
  r.parser.maxStanzaBytes = 1000;
  r.write(big);
  assert.equal(r.error, undefined);
  assert.equal(r.elements.length, 2);
});

test('a long token arriving in small chunks is parsed once it ends, in time linear in its length', () => {
  const n = 400_000;
  const cases: [string, (r: Recorder) => void][] = [
    [`<message a='${'x'.repeat(n)}"'/>`, (r) => assert.equal(r.elements[0]!.attrs.a!.length, n + 1)],
    [`<message a="'${'x'.repeat(n)}>"/>`, (r) => assert.equal(r.elements[0]!.attrs.a!.length, n + 2)],
    [`<message><![CDATA[${']'.repeat(n)}]]></message>`, (r) => assert.equal(r.elements[0]!.getText().length, n)],
    [`<message><${'n'.repeat(n)}/></message>`, (r) => assert.equal(r.elements[0]!.getChildElements()[0]!.name.length, n)],
    [`<message></message${' '.repeat(n)}>`, (r) => assert.equal(r.elements[0]!.name, 'message')],
    [`<message>&${'a'.repeat(n)}</message>`, (r) => assert.equal(r.error?.condition, 'not-well-formed')],
    [`<message>x&amp${'é'.repeat(n / 2)};</message>`, (r) => assert.equal(r.error?.condition, 'restricted-xml')],
  ];
  for (const [body, check] of cases) {
    const input = Buffer.from(HEADER + body + '<iq/>');
    for (const size of [7, 61, 4096]) {
      const started = performance.now();
      const r = new Recorder({ maxStanzaBytes: 2 * n + 100 });
      for (let i = 0; i < input.length; i += size) r.parser.write(input.subarray(i, i + size));
      check(r);
      if (r.error === undefined) assert.equal(r.elements.length, 2, 'what follows the token is parsed too');
      // Quadratic, this took over ten seconds in 7-byte chunks.
      assert.ok(performance.now() - started < 2_000, `${body.slice(0, 20)} in ${size}-byte chunks took ${performance.now() - started} ms`);
    }
  }
  // the same in string chunks, and a waiting token is held to the stanza limit
  const r = new Recorder();
  const text = HEADER + `<message a='${'x'.repeat(5000)}'/>`;
  for (let i = 0; i < text.length; i += 5) r.write(text.slice(i, i + 5));
  assert.equal(r.elements[0]!.attrs.a!.length, 5000);
  const limited = new Recorder({ maxStanzaBytes: 4000 });
  limited.write(HEADER, "<message a='");
  for (let i = 0; i < 1000 && limited.error === undefined; i++) limited.write('xxxxxxxxxx');
  assert.equal(limited.error?.condition, 'policy-violation');
});

test('the stream header is bounded by the same limit', () => {
  assert.equal(new Recorder({ maxStanzaBytes: 50 }).write(HEADER).error?.condition, 'policy-violation');
  const r = new Recorder({ maxStanzaBytes: 50 }).write(`<stream:stream xmlns:stream='${NS_STREAMS}' a='`);
  for (let i = 0; i < 10 && !r.error; i++) r.write('xxxxxxxxxx');
  assert.equal(r.error?.condition, 'policy-violation');
  assert.match(r.error!.text!, /header/);
});

test('attribute count and nesting depth are bounded', () => {
  const attrs = (n: number): string => Array.from({ length: n }, (_, i) => ` a${i}='${i}'`).join('');
  assert.equal(errorOf(`<message${attrs(MAX_ATTRIBUTES)}/>`), undefined);
  assert.equal(errorOf(`<message${attrs(MAX_ATTRIBUTES + 1)}/>`), 'policy-violation');
  const nest = (n: number): string => '<a>'.repeat(n - 1) + '<a/>' + '</a>'.repeat(n - 1);
  assert.equal(errorOf(nest(MAX_DEPTH)), undefined);
  assert.equal(errorOf(nest(MAX_DEPTH + 1)), 'policy-violation');
  assert.equal(errorOf('<a>'.repeat(MAX_DEPTH + 1)), 'policy-violation', 'even before anything closes');
});

test('after an error the parser ignores further input', () => {
  const r = new Recorder().write(HEADER, '<message><!-- x -->', '<iq/>', '</message><iq/>');
  assert.deepEqual(r.events, ['start', 'error restricted-xml']);
});

test('reset() starts a new stream, XML declaration included', () => {
  const r = new Recorder().write(HEADER, '<auth/>');
  r.parser.reset();
  r.write("<?xml version='1.0'?>", HEADER, '<iq/>');
  assert.deepEqual(r.events, ['start', '<auth xmlns="jabber:client"/>', 'start', '<iq xmlns="jabber:client"/>']);
  // also in the middle of a stanza or after an error
  r.write('<message><body>');
  r.parser.reset();
  r.write(HEADER + '<presence/>');
  r.write('<!-- -->');
  r.parser.reset();
  r.write(HEADER);
  assert.deepEqual(r.events.slice(4), ['start', '<presence xmlns="jabber:client"/>', 'error restricted-xml', 'start']);
});

test('reset() from a callback drops the rest of the chunk', () => {
  const events: string[] = [];
  const parser: StreamParser = new StreamParser({
    streamStart: () => events.push('start'),
    element: (el) => {
      events.push(el.name);
      if (el.name === 'starttls') parser.reset();
    },
    streamEnd: () => events.push('end'),
    error: (err) => events.push(err.condition),
  }, { maxStanzaBytes: 1000 });
  parser.write(HEADER + '<starttls/><iq type="injected"/>');
  parser.write(HEADER + '<iq/>');
  assert.deepEqual(events, ['start', 'starttls', 'start', 'iq']);
});

test('an exception from a callback propagates and leaves the parser usable', () => {
  const seen: string[] = [];
  const parser = new StreamParser({
    streamStart() {},
    element(el) {
      seen.push(el.name);
      if (el.name === 'boom') throw new StreamError('undefined-condition', 'from handler');
    },
    streamEnd() {},
    error() {
      assert.fail('a handler exception is not a parse error');
    },
  }, { maxStanzaBytes: 1000 });
  assert.throws(() => parser.write(HEADER + '<boom/>'), /from handler/);
  parser.write('<iq/>');
  assert.deepEqual(seen, ['boom', 'iq']);
});

test('framed mode (RFC 7395) delivers each top-level element', () => {
  const r = new Recorder({ framed: true });
  r.write("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>");
  r.write("<message xmlns='jabber:client' to='a@b'><body>x</body></message>");
  r.write("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  assert.deepEqual(r.events, [
    '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="example.com" version="1.0"/>',
    '<message xmlns="jabber:client" to="a@b"><body>x</body></message>',
    '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>',
  ]);
  assert.ok(r.elements[0]!.is('open', 'urn:ietf:params:xml:ns:xmpp-framing'));
  // nothing is inherited: undeclared prefixes are errors, no xmlns is added
  assert.equal(new Recorder({ framed: true }).write('<stream:features/>').error?.condition, 'bad-namespace-prefix');
  assert.equal(new Recorder({ framed: true }).write('<iq/>').elements[0]!.attrs.xmlns, undefined);
  assert.equal(new Recorder({ framed: true }).write('</close>').error?.condition, 'not-well-formed');
});

test('parseXml returns the whole tree with parents set', () => {
  const root = parseXml("<?xml version='1.0'?>\n<body xmlns='http://jabber.org/protocol/httpbind' rid='1'><message xmlns='jabber:client'><body>hi</body></message></body>\n");
  assert.equal(root.name, 'body');
  assert.equal(root.attrs.rid, '1');
  const message = root.getChild('message', 'jabber:client')!;
  assert.equal(message.parent, root);
  assert.equal(message.getChildText('body'), 'hi');
});

test('parseXml refuses incomplete, doubled, oversized and malformed documents', () => {
  const condition = (text: string, maxBytes?: number): string | undefined => {
    try {
      parseXml(text, maxBytes);
      return undefined;
    } catch (err) {
      assert.ok(err instanceof StreamError);
      return err.condition;
    }
  };
  assert.equal(condition('<a><b/>'), 'not-well-formed');
  assert.equal(condition('<a'), 'not-well-formed');
  assert.equal(condition(''), 'not-well-formed');
  assert.equal(condition('<a/><b/>'), 'not-well-formed');
  assert.equal(condition('<a/>x'), 'not-well-formed');
  assert.equal(condition('<a>\ud800</a>'), 'not-well-formed');
  assert.equal(condition('<a>\ud83d'), 'not-well-formed', 'cut inside a surrogate pair');
  assert.equal(condition('<a><!-- --></a>'), 'restricted-xml');
  assert.equal(condition(`<a>${'x'.repeat(100)}</a>`, 50), 'policy-violation');
  assert.equal(condition(`<a>${'x'.repeat(100)}</a>`), undefined);
});

test('a prefixed name whose local part does not start a name is not well-formed (found by the fuzzer)', () => {
  for (const bad of ["<c:4 xmlns:c='urn:b'/>", "<c:-x xmlns:c='urn:b'/>", "<x xmlns:c='urn:b' c:1a='v'/>", "<x xmlns:4='urn:b'/>"]) {
    assert.throws(() => parseXml(bad), (err: unknown) => err instanceof StreamError && err.condition === 'not-well-formed', bad);
  }
  assert.equal(parseXml("<c:x4 xmlns:c='urn:b' c:a-1='v'/>").attrs['c:a-1'], 'v');
});
