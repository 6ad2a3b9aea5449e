import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Reports the incompatible changes between two jars of one artifact that japicmp does not see: it
 * reads neither whether a type is sealed nor what it permits, nor the module name.
 *
 * <pre>java .ci/ApiExtraChecks.java OLD.jar NEW.jar</pre>
 *
 * <p>For each public type outside an {@code internal} package, a change breaks callers when a
 * sealed type gains a permitted subtype (an exhaustive switch over it no longer compiles, and
 * throws at run time), loses one, stops being sealed, or when an extensible type becomes sealed
 * (its outside subtypes no longer load). A changed module name (module-info, or else the
 * manifest's Automatic-Module-Name) breaks every {@code requires} of it. Each such change is
 * printed on its own line; the exit status is 0 when there is none, 1 when there is at least one,
 * 2 on bad arguments or unreadable jars. Run by .ci/api-check.
 */
public final class ApiExtraChecks {
  private static final int ACC_PUBLIC = 0x0001;
  private static final int ACC_FINAL = 0x0010;

  /** What one class file says about sealing, and a module-info's module name. */
  private record ClassInfo(int access, boolean sealed, Set<String> permitted, String moduleName) {}

  /** The classes of one jar by internal name, and its module name (null when it has none). */
  private record JarInfo(Map<String, ClassInfo> classes, String moduleName) {}

  private ApiExtraChecks() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: java ApiExtraChecks.java OLD.jar NEW.jar");
      System.exit(2);
    }
    JarInfo before;
    JarInfo after;
    try {
      before = read(Path.of(args[0]));
      after = read(Path.of(args[1]));
    } catch (IOException e) {
      System.err.println("ApiExtraChecks: cannot read the jars: " + e);
      System.exit(2);
      return;
    }
    List<String> changes = new ArrayList<>();
    if (before.moduleName() != null && !before.moduleName().equals(after.moduleName())) {
      changes.add("MODULE_NAME_CHANGED: " + before.moduleName() + " is now " + after.moduleName());
    }
    for (Map.Entry<String, ClassInfo> entry : before.classes().entrySet()) {
      String name = entry.getKey();
      ClassInfo was = entry.getValue();
      ClassInfo is = after.classes().get(name);
      if (is == null || (was.access() & ACC_PUBLIC) == 0 || isInternal(name)) {
        continue; // removed types, and types that are not API, are japicmp's to report
      }
      String change = "SEALED_HIERARCHY_CHANGED: " + display(name);
      if (was.sealed() && !is.sealed()) {
        changes.add(change + " is no longer sealed");
      } else if (!was.sealed() && is.sealed() && (was.access() & ACC_FINAL) == 0) {
        changes.add(change + " became sealed, permitting only " + displayAll(is.permitted()));
      } else if (was.sealed()) {
        Set<String> added = new TreeSet<>(is.permitted());
        added.removeAll(was.permitted());
        Set<String> removed = new TreeSet<>(was.permitted());
        removed.removeAll(is.permitted());
        if (!added.isEmpty()) {
          changes.add(change + " permits a new subtype: " + displayAll(added));
        }
        if (!removed.isEmpty()) {
          changes.add(change + " no longer permits: " + displayAll(removed));
        }
      }
    }
    changes.forEach(System.out::println);
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

  private static JarInfo read(Path jar) throws IOException {
    Map<String, ClassInfo> classes = new TreeMap<>();
    String moduleName = null;
    try (JarFile file = new JarFile(jar.toFile())) {
      Manifest manifest = file.getManifest();
      if (manifest != null) {
        moduleName = manifest.getMainAttributes().getValue("Automatic-Module-Name");
      }
      for (JarEntry entry : Collections.list(file.entries())) {
        String entryName = entry.getName();
        if (!entryName.endsWith(".class")
            || entryName.endsWith("package-info.class")
            || entryName.startsWith("META-INF/")) {
          continue;
        }
        ClassInfo info;
        try (InputStream in = file.getInputStream(entry)) {
          info = parse(in.readAllBytes(), entryName);
        }
        if (entryName.equals("module-info.class")) {
          moduleName = info.moduleName(); // a declared module wins over the manifest's name
        } else {
          classes.put(entryName.substring(0, entryName.length() - ".class".length()), info);
        }
      }
    }
    return new JarInfo(classes, moduleName);
  }

  /** Reads the access flags and the PermittedSubclasses and Module attributes (JVMS 4.1, 4.7). */
  private static ClassInfo parse(byte[] bytes, String entryName) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException(entryName + " is not a class file");
    }
    in.readUnsignedShort(); // minor version
    in.readUnsignedShort(); // major version
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    int[] nameIndex = new int[count]; // of CONSTANT_Class and CONSTANT_Module entries
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 7, 19 -> nameIndex[i] = in.readUnsignedShort();
        case 8, 16, 20 -> in.readUnsignedShort();
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
    in.skipNBytes(2L * in.readUnsignedShort()); // interfaces
    for (int members = 0; members < 2; members++) { // fields, then methods
      int memberCount = in.readUnsignedShort();
      for (int m = 0; m < memberCount; m++) {
        in.skipNBytes(6); // access, name, descriptor
        int attributes = in.readUnsignedShort();
        for (int a = 0; a < attributes; a++) {
          in.readUnsignedShort();
          in.skipNBytes(in.readInt() & 0xFFFFFFFFL);
        }
      }
    }
    boolean sealed = false;
    Set<String> permitted = new TreeSet<>();
    String moduleName = null;
    int attributes = in.readUnsignedShort();
    for (int a = 0; a < attributes; a++) {
      String attributeName = utf8[in.readUnsignedShort()];
      long length = in.readInt() & 0xFFFFFFFFL;
      if ("PermittedSubclasses".equals(attributeName)) {
        sealed = true;
        int classes = in.readUnsignedShort();
        for (int c = 0; c < classes; c++) {
          permitted.add(utf8[nameIndex[in.readUnsignedShort()]]);
        }
      } else if ("Module".equals(attributeName)) {
        moduleName = Objects.requireNonNull(utf8[nameIndex[in.readUnsignedShort()]]);
        in.skipNBytes(length - 2);
      } else {
        in.skipNBytes(length);
      }
    }
    return new ClassInfo(access, sealed, permitted, moduleName);
  }
}
