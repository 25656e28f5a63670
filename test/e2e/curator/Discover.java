// Apache Curator's own service discovery reading the registry, for the end-to-end tests: each
// instance of a service as "ID ADDRESS PORT SERVICE_TYPE NODE IMAGE", a line each.
// Usage: java Discover CONNECT_STRING BASE_PATH SERVICE
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

public class Discover {
    @SuppressWarnings({"rawtypes", "unchecked"})
    public static void main(String[] args) throws Exception {
        CuratorFramework client =
                CuratorFrameworkFactory.newClient(args[0], 10000, 5000, new RetryNTimes(3, 500));
        client.start();
        try {
            if (!client.blockUntilConnected(15, TimeUnit.SECONDS)) {
                System.err.println("no ZooKeeper session through " + args[0] + " within 15 s");
                System.exit(2);
            }
            ServiceDiscovery<Map> discovery = ServiceDiscoveryBuilder.builder(Map.class)
                    .client(client)
                    .basePath(args[1])
                    .serializer(new JsonInstanceSerializer<>(Map.class))
                    .build();
            discovery.start();
            for (ServiceInstance<Map> i : discovery.queryForInstances(args[2])) {
                Map payload = i.getPayload();
                System.out.println(String.join(" ", i.getId(), i.getAddress(),
                        String.valueOf(i.getPort()), String.valueOf(i.getServiceType()),
                        String.valueOf(payload.get("node")), String.valueOf(payload.get("image"))));
            }
            discovery.close();
        } finally {
            client.close();
        }
    }
}
