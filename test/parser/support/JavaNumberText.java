// Reference texts for test/parser/java-number.property.test.ts: reads lines "f <int bits hex>" or
// "d <long bits hex>" and prints Float.toString / Double.toString of each, one per line.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;

public class JavaNumberText {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        PrintWriter out = new PrintWriter(System.out);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String hex = line.substring(2);
            if (line.charAt(0) == 'f') out.println(Float.toString(Float.intBitsToFloat((int) Long.parseLong(hex, 16))));
            else out.println(Double.toString(Double.longBitsToDouble(Long.parseUnsignedLong(hex, 16))));
        }
        out.flush();
    }
}
