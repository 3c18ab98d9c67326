// The part of the browser's XMLHttpRequest that Strophe.js's BOSH transport uses, over
// node:http, so the unmodified library runs in Node as it would in a page. Responses are
// parsed with the DOMParser that Strophe's Node build installs, as a browser's responseXML.
import http from 'node:http';

type Listener = (() => void) | null;

export class NodeXMLHttpRequest {
  readyState = 0;
  status = 0;
  responseText = '';
  responseXML: Document | null = null;
  withCredentials = false;
  onreadystatechange: Listener = null;
  private method = 'GET';
  private url = '';
  private readonly headers: Record<string, string> = {};
  private responseHeaders = '';
  private request: http.ClientRequest | null = null;
  private aborted = false;

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }

  overrideMimeType(): void {}

  getAllResponseHeaders(): string {
    return this.responseHeaders;
  }

  send(body?: string): void {
    const req = http.request(this.url, { method: this.method, headers: this.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        if (this.aborted) return;
        this.status = res.statusCode ?? 0;
        this.responseHeaders = Object.entries(res.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n');
        this.responseText = text;
        this.responseXML = text ? new DOMParser().parseFromString(text, 'text/xml') : null;
        this.done();
      });
    });
    this.request = req;
    req.on('error', () => {
      if (this.aborted) return;
      this.status = 0;
      this.done();
    });
    req.end(body);
  }

  abort(): void {
    this.aborted = true;
    this.request?.destroy();
  }

  private done(): void {
    this.readyState = 4;
    this.onreadystatechange?.();
  }
}

/** Makes `new XMLHttpRequest()` work in this process. */
export function installXMLHttpRequest(): void {
  (globalThis as Record<string, unknown>).XMLHttpRequest = NodeXMLHttpRequest;
}
