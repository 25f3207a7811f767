// Where the portal finds the services, as the page that serves it says (a <meta> element the
// service fills in, so no inline script is needed); defaults are `make run`'s ports.
export interface PortalConfig {
  publisher: string;
  devportal: string;
  keymanager: string;
  gateway: string;
}

const DEFAULTS: PortalConfig = {
  publisher: "http://127.0.0.1:8001/api/publisher/v1",
  devportal: "http://127.0.0.1:8002/api/devportal/v1",
  keymanager: "http://127.0.0.1:8003/api/keymanager/v1",
  gateway: "http://127.0.0.1:8280",
};

export function readConfig(doc: Document = document): PortalConfig {
  const content = doc.querySelector<HTMLMetaElement>('meta[name="aigw-config"]')?.content;
  if (!content || content.startsWith("__")) return DEFAULTS;
  return { ...DEFAULTS, ...(JSON.parse(content) as Partial<PortalConfig>) };
}

export const config: PortalConfig = readConfig();
