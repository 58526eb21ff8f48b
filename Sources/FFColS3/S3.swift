import CCurl
import FFCol
