// Checks RFC 4998 evidence records with Bouncy Castle's implementation (org.bouncycastle.tsp.ers),
// independently of scanwerk: `java ErsCheck RECORD.ers DATA.pdf` exits 0 and prints OK if the
// record's reduced hash tree leads from the data's hash to the root its time-stamp token stamps and
// the token's signature verifies with the certificate it carries; otherwise it exits 1 and says why.

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Date;

import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.ers.ERSByteData;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;

public class ErsCheck {
    public static void main(String[] args) throws Exception {
        byte[] ers = Files.readAllBytes(Paths.get(args[0]));
        byte[] data = Files.readAllBytes(Paths.get(args[1]));
        try {
            ERSEvidenceRecord record = new ERSEvidenceRecord(ers, new JcaDigestCalculatorProviderBuilder().build());
            record.validatePresent(new ERSByteData(data), new Date());
            record.validate(new JcaSimpleSignerInfoVerifierBuilder().build(record.getSigningCertificate()));
            System.out.println("OK " + args[0] + " covers " + args[1]);
        } catch (Exception e) {
            System.out.println("FAIL " + args[0] + ": " + e);
            System.exit(1);
        }
    }
}
