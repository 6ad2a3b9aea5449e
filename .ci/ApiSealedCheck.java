import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Reports the changes to sealed hierarchies between two jars of one artifact, which japicmp does
 * not see (it reads neither the PermittedSubclasses attribute nor whether a type is sealed).
 *
 * <pre>java .ci/ApiSealedCheck.java OLD.jar NEW.jar</pre>
 *
 * <p>For each public type outside an {@code internal} package, a change breaks callers when a
 * sealed type gains a permitted subtype (an exhaustive switch over it no longer compiles, and
 * throws at run time), loses one, stops being sealed, or when an extensible type becomes sealed
 * (its outside subtypes no longer load). Each such change is printed on its own line; the exit
 * status is 0 when there is none, 1 when there is at least one, 2 on bad arguments or unreadable
 * jars. Run by .ci/api-check.
 */
public final class ApiSealedCheck {
  private static final int ACC_PUBLIC = 0x0001;
  private static final int ACC_FINAL = 0x0010;

  /** What one class file says about sealing. */
  private record ClassInfo(int access, Set<String> permitted, boolean sealed) {}

  private ApiSealedCheck() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: java ApiSealedCheck.java OLD.jar NEW.jar");
      System.exit(2);
    }
    Map<String, ClassInfo> before;
    Map<String, ClassInfo> after;
    try {
      before = read(Path.of(args[0]));
      after = read(Path.of(args[1]));
    } catch (IOException e) {
      System.err.println("ApiSealedCheck: cannot read the jars: " + e);
      System.exit(2);
      return;
    }
    List<String> changes = new ArrayList<>();
    for (Map.Entry<String, ClassInfo> entry : before.entrySet()) {
      String name = entry.getKey();
      ClassInfo was = entry.getValue();
      ClassInfo is = after.get(name);
      if (is == null || (was.access() & ACC_PUBLIC) == 0 || isInternal(name)) {
        continue; // removed types, and types that are not API, are japicmp's to report
      }
      if (was.sealed() && !is.sealed()) {
        changes.add(display(name) + " is no longer sealed");
      } else if (!was.sealed() && is.sealed() && (was.access() & ACC_FINAL) == 0) {
        changes.add(display(name) + " became sealed, permitting only " + displayAll(is.permitted()));
      } else if (was.sealed()) {
        Set<String> added = new TreeSet<>(is.permitted());
        added.removeAll(was.permitted());
        Set<String> removed = new TreeSet<>(was.permitted());
        removed.removeAll(is.permitted());
        if (!added.isEmpty()) {
          changes.add(display(name) + " permits a new subtype: " + displayAll(added));
        }
        if (!removed.isEmpty()) {
          changes.add(display(name) + " no longer permits: " + displayAll(removed));
        }
      }
    }
    for (String change : changes) {
      System.out.println("SEALED_HIERARCHY_CHANGED: " + change);
    }
    System.exit(changes.isEmpty() ? 0 : 1);
  }

  private static boolean isInternal(String internalName) {
    return ("/" + internalName).contains("/internal/");
  }

  private static String display(String internalName) {
    return internalName.replace('/', '.');
  }

  private static String displayAll(Set<String> internalNames) {
    List<String> names = new ArrayList<>();
    for (String name : internalNames) {
      names.add(display(name));
    }
    return String.join(", ", names);
  }

  private static Map<String, ClassInfo> read(Path jar) throws IOException {
    Map<String, ClassInfo> classes = new TreeMap<>();
    try (JarFile file = new JarFile(jar.toFile())) {
      for (JarEntry entry : Collections.list(file.entries())) {
        String entryName = entry.getName();
        if (!entryName.endsWith(".class")
            || entryName.endsWith("module-info.class")
            || entryName.endsWith("package-info.class")
            || entryName.startsWith("META-INF/")) {
          continue;
        }
        try (InputStream in = file.getInputStream(entry)) {
          String name = entryName.substring(0, entryName.length() - ".class".length());
          classes.put(name, parse(in.readAllBytes(), entryName));
        }
      }
    }
    return classes;
  }

  /** Reads the access flags and the PermittedSubclasses attribute (JVMS 4.1, 4.7.31). */
  private static ClassInfo parse(byte[] bytes, String entryName) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException(entryName + " is not a class file");
    }
    in.readUnsignedShort(); // minor version
    in.readUnsignedShort(); // major version
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    int[] classNameIndex = new int[count];
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 7 -> classNameIndex[i] = in.readUnsignedShort();
        case 8, 16, 19, 20 -> in.readUnsignedShort();
        case 15 -> {
          in.readUnsignedByte();
          in.readUnsignedShort();
        }
        case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt();
        case 5, 6 -> {
          in.readLong();
          i++; // takes two entries
        }
        default -> throw new IOException(entryName + ": unknown constant pool tag " + tag);
      }
    }
    int access = in.readUnsignedShort();
    in.readUnsignedShort(); // this_class
    in.readUnsignedShort(); // super_class
    int interfaces = in.readUnsignedShort();
    in.skipNBytes(2L * interfaces);
    for (int members = 0; members < 2; members++) { // fields, then methods
      int memberCount = in.readUnsignedShort();
      for (int m = 0; m < memberCount; m++) {
        in.skipNBytes(6); // access, name, descriptor
        skipAttributes(in);
      }
    }
    Set<String> permitted = new TreeSet<>();
    boolean sealed = false;
    int attributes = in.readUnsignedShort();
    for (int a = 0; a < attributes; a++) {
      String attributeName = utf8[in.readUnsignedShort()];
      int length = in.readInt();
      if ("PermittedSubclasses".equals(attributeName)) {
        sealed = true;
        int classes = in.readUnsignedShort();
        for (int c = 0; c < classes; c++) {
          permitted.add(utf8[classNameIndex[in.readUnsignedShort()]]);
        }
      } else {
        in.skipNBytes(length);
      }
    }
    return new ClassInfo(access, permitted, sealed);
  }

  private static void skipAttributes(DataInputStream in) throws IOException {
    int attributes = in.readUnsignedShort();
    for (int a = 0; a < attributes; a++) {
      in.readUnsignedShort();
      in.skipNBytes(in.readInt() & 0xFFFFFFFFL);
    }
  }
}
