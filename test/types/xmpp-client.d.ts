// The slice of @xmpp/client (which ships no types) that the client tests use.
declare module '@xmpp/client' {
  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildren(name: string, xmlns?: string): XmlElement[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    toString(): string;
  }
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (XmlElement | string)[]): XmlElement;
  export interface Client {
    on(event: 'stanza', listener: (stanza: XmlElement) => void): void;
    on(event: string, listener: (...args: any[]) => void): void;
    start(): Promise<{ toString(): string }>;
    stop(): Promise<void>;
    send(...stanzas: XmlElement[]): Promise<void>;
    iqCaller: {
      get(payload: XmlElement, to?: string, timeout?: number): Promise<XmlElement>;
      set(payload: XmlElement, to?: string, timeout?: number): Promise<XmlElement>;
      /** Sends a whole IQ and resolves with the whole answer. */
      request(iq: XmlElement, timeout?: number): Promise<XmlElement>;
    };
    /** Answers IQs of one namespace and element name; the handler returns the result's child. */
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: { element: XmlElement }) => XmlElement | Promise<XmlElement>): void;
      set(ns: string, name: string, handler: (ctx: { element: XmlElement }) => XmlElement | Promise<XmlElement>): void;
    };
  }
  export function client(options: {
    service: string;
    domain?: string;
    resource?: string;
    username?: string;
    password?: string;
  }): Client;
}
