// Starts Smack's integration test framework with connections that reach a test server on
// the ports it was given: the framework's own connection descriptors assume port 5222 and
// find WebSocket endpoints by XEP-0156 lookup over HTTPS on port 443. Run as a single source
// file (`java -cp 'lib/*' SintLauncher.java`), so nothing needs compiling beforehand.
//
// System properties: xmppd.c2s.port (TCP, STARTTLS) and xmppd.websocket.url (wss://...);
// every sinttest.* property goes to the framework as usual.
import java.net.URI;
import org.igniterealtime.smack.inttest.SmackIntegrationTestFramework;
import org.igniterealtime.smack.inttest.XmppConnectionDescriptor;
import org.igniterealtime.smack.inttest.XmppConnectionManager;
import org.jivesoftware.smack.c2s.ModularXmppClientToServerConnection;
import org.jivesoftware.smack.c2s.ModularXmppClientToServerConnectionConfiguration;
import org.jivesoftware.smack.tcp.XMPPTCPConnection;
import org.jivesoftware.smack.tcp.XMPPTCPConnectionConfiguration;
import org.jivesoftware.smack.websocket.XmppWebSocketTransportModuleDescriptor;
import org.jivesoftware.smack.websocket.java11.Java11WebSocketFactory;
import org.jivesoftware.smackx.iqregister.AccountManager;

public class SintLauncher {
  private static final String[] BUILT_IN = { "tcp", "modular", "modular-nocompress", "modular-websocket-okhttp", "modular-websocket-java11" };

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(required("xmppd.c2s.port"));
    URI webSocket = new URI(required("xmppd.websocket.url"));
    for (String nickname : BUILT_IN) XmppConnectionManager.removeConnectionDescriptor(nickname);

    // "tcp" stays the name of the default connection, which every normal test uses.
    XmppConnectionManager.addConnectionDescriptor(
        XmppConnectionDescriptor.buildWith(XMPPTCPConnection.class, XMPPTCPConnectionConfiguration.class, XMPPTCPConnectionConfiguration.Builder.class)
            .withNickname("tcp")
            .applyExtraConfiguration(builder -> builder.setPort(port))
            .build());
    // Low-level tests run once per descriptor: this one repeats them over RFC 7395.
    XmppConnectionManager.addConnectionDescriptor(
        XmppConnectionDescriptor.buildWith(ModularXmppClientToServerConnection.class, ModularXmppClientToServerConnectionConfiguration.class,
                ModularXmppClientToServerConnectionConfiguration.Builder.class)
            .withNickname("websocket")
            .applyExtraConfiguration(builder -> {
              builder.removeAllModules();
              try {
                builder.addModule(XmppWebSocketTransportModuleDescriptor.getBuilder(builder)
                    .explicitlySetWebSocketEndpointAndDiscovery(webSocket, false)
                    .setWebSocketFactory(new Java11WebSocketFactory())
                    .build());
              } catch (Exception e) {
                throw new IllegalStateException("cannot configure the WebSocket connection to " + webSocket, e);
              }
            })
            .build());
    // The WebSocket module does not report wss as secure, and in-band registration refuses
    // insecure connections; both endpoints given here are TLS (STARTTLS is required on TCP).
    AccountManager.sensitiveOperationOverInsecureConnectionDefault(true);
    SmackIntegrationTestFramework.main(args);
  }

  private static String required(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isEmpty()) throw new IllegalArgumentException("system property " + name + " is not set");
    return value;
  }
}
